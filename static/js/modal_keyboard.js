// Keyboard access to the modals (templates/partials/modal.html), whether htmx loaded them or
// the page was served with one open (docs/accessibility.md#modals):
//   - once a modal is open, focus is inside it (its first field or button);
//   - Tab and Shift+Tab go round its fields and buttons and never leave it;
//   - Escape closes it (the browser's own "cancel" of a modal <dialog>);
//   - closed, focus goes back to what opened it (or to the page's heading if that is gone).
// static/js/app.js opens and removes the modals; this file only moves the focus.
(function () {
  "use strict";

  const FOCUSABLE = [
    "a[href]",
    "button:not([disabled])",
    "input:not([disabled]):not([type=hidden])",
    "select:not([disabled])",
    "textarea:not([disabled])",
    "summary",
    "[tabindex]:not([tabindex='-1'])",
  ].join(",");

  // The element that had the focus (or was clicked) outside any modal: the next modal's opener.
  let opener = null;

  function outsideModals(element) {
    return element instanceof Element && !element.closest("dialog.modal");
  }

  document.addEventListener("focusin", function (event) {
    if (outsideModals(event.target)) opener = event.target;
  });
  // A click does not focus a link in every browser: remember what was clicked as well.
  document.addEventListener(
    "click",
    function (event) {
      const target = event.target instanceof Element ? event.target.closest(FOCUSABLE) : null;
      if (target && outsideModals(target)) opener = target;
    },
    true,
  );

  function focusables(dialog) {
    return Array.from(dialog.querySelectorAll(FOCUSABLE)).filter(function (element) {
      return element.getClientRects().length > 0 && !element.closest("[inert]");
    });
  }

  function focusInside(dialog) {
    if (dialog.contains(document.activeElement)) return;
    const first = dialog.querySelector("[autofocus]") || focusables(dialog)[0];
    if (first) {
      first.focus();
    } else {
      dialog.setAttribute("tabindex", "-1");
      dialog.focus();
    }
  }

  function openModals() {
    document.querySelectorAll("dialog.modal").forEach(function (dialog) {
      if (!dialog.open) return;
      // Served open (no htmx on the way): made modal, so that the page behind is out of
      // reach and Escape closes it. Dropping the attribute fires no "close".
      if (!dialog.matches(":modal")) {
        dialog.removeAttribute("open");
        dialog.showModal();
      }
      if (dialog.dataset.keyboardReady === undefined) {
        dialog.dataset.keyboardReady = "";
        dialog.modalOpener = opener;
      }
      focusInside(dialog);
    });
  }

  // After app.js has opened what htmx brought (it listens first; this waits a frame).
  document.addEventListener("htmx:load", function () {
    window.requestAnimationFrame(openModals);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", openModals);
  } else {
    openModals();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") return;
    const dialog = document.querySelector("dialog.modal[open]");
    if (!dialog) return;
    const items = focusables(dialog);
    if (items.length === 0) {
      event.preventDefault();
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    if (!dialog.contains(active)) {
      event.preventDefault();
      first.focus();
    } else if (event.shiftKey && (active === first || active === dialog)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  });

  function headingOf(root) {
    const heading = root.querySelector("h1");
    if (heading && !heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    return heading;
  }

  // The opener htmx replaced while the modal was open: the element now in its place (same
  // id, same link, or the same kind of button inside the nearest ancestor still on the page).
  function twinOf(previous) {
    if (previous.id && document.getElementById(previous.id)) return document.getElementById(previous.id);
    const href = previous.getAttribute("href");
    if (href) {
      const link = document.querySelector('a[href="' + CSS.escape(href) + '"]');
      if (link) return link;
    }
    for (let ancestor = previous.parentElement; ancestor; ancestor = ancestor.parentElement) {
      const live = ancestor.id ? document.getElementById(ancestor.id) : null;
      if (!live) continue;
      const same = Array.from(live.querySelectorAll(previous.tagName)).find(function (candidate) {
        return candidate.textContent.trim() === previous.textContent.trim();
      });
      return same && same.matches(FOCUSABLE) ? same : null;
    }
    return null;
  }

  // "close" does not bubble: listened to on its way down. The dialog may already be gone
  // (app.js removes it); the opener may have been swapped by htmx: then its twin (same id
  // or same link) takes the focus, or the page's heading.
  document.addEventListener(
    "close",
    function (event) {
      const dialog = event.target;
      if (!(dialog instanceof HTMLDialogElement) || !dialog.matches(".modal")) return;
      const previous = dialog.modalOpener;
      window.requestAnimationFrame(function () {
        if (document.querySelector("dialog.modal[open]")) return;
        let target = previous && previous.isConnected ? previous : null;
        if (!target && previous) target = twinOf(previous);
        if (!target) target = headingOf(document.getElementById("content") || document.body);
        if (target) target.focus();
      });
    },
    true,
  );
})();
