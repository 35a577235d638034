"""The subscription pages: the Overview, Billing and Settings tabs, plan selection,
customization, the annual switch, cancellation and reactivation.

One view, two renderings: the full page, or for htmx the fragment it asked for (a tab,
a paginated table, a modal, the live cost summary), see :mod:`billing.pages.responses`.

* Views, one module per tab or flow: ``overview``, ``billing_tab``, ``settings_tab``,
  ``plans``, ``customize``, ``annual``, ``cancel`` (and ``payment_method``,
  ``workspaces``); their shared answers in ``responses`` and ``confirmations``.
* Reads: ``subscription_selectors``, ``overview_selectors``, ``billing_tab_selectors``
  fill the display dataclasses of ``cards``.
* Words and numbers: ``display``, the one place that formats values for these pages.
"""
