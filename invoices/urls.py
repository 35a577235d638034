from django.urls import path

from invoices import views

# Served under "<uuid:workspace_id>/workspace/" (config/urls.py).
tenant_urlpatterns = [
    path("invoices/export.csv", views.invoices_export_csv, name="invoices_export_csv"),
    path("invoices/accounting.csv", views.accounting_export_csv, name="invoices_accounting_csv"),
    path("invoices/month.zip", views.month_archive_zip, name="invoices_month_zip"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:invoice_id>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:invoice_id>/xml/", views.invoice_xml, name="invoice_xml"),
]
