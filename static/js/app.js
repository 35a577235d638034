// The page behaviours the templates ask for with data attributes, so that no template holds
// an inline script or event handler (the Content-Security-Policy allows neither; see
// docs/security.md). Delegated from the document: content swapped in by htmx works too.
//
//   data-close-dialog               a button that closes the <dialog> it is in
//   data-confirm="question"         a form submitted only once the question is confirmed
//   data-disable-on-submit          a form whose submit button is disabled once sent
//   data-auto-submit                a <select> that submits its form when changed
//   dialog.modal[data-modal]        a modal loaded by htmx: opens as the only modal; the
//                                   "close-modal" event (HX-Trigger) closes it; closed, it goes
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-close-dialog]");
    if (button) {
      const dialog = button.closest("dialog");
      if (dialog) dialog.close();
    }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.disableOnSubmit !== undefined) {
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
    }
  });

  document.addEventListener("change", function (event) {
    const select = event.target;
    if (select.matches && select.matches("[data-auto-submit]") && select.form) {
      select.form.submit();
    }
  });

  function openModals(root) {
    const modals = root.matches && root.matches("dialog.modal[data-modal]")
      ? [root]
      : Array.from(root.querySelectorAll ? root.querySelectorAll("dialog.modal[data-modal]") : []);
    modals.forEach(function (modal) {
      document.querySelectorAll("dialog.modal").forEach(function (other) {
        if (other !== modal) other.remove();
      });
      if (!modal.open) modal.showModal();
    });
  }
  document.addEventListener("htmx:load", function (event) {
    openModals(event.detail.elt);
  });

  // "close" does not bubble: listen while it goes down to the dialog.
  document.addEventListener(
    "close",
    function (event) {
      if (event.target.matches && event.target.matches("dialog.modal")) event.target.remove();
    },
    true,
  );

  document.addEventListener("close-modal", function (event) {
    const dialog = event.target.closest && event.target.closest("dialog.modal");
    if (dialog) dialog.close();
  });
})();
