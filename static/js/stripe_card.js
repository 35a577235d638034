// The payer's Stripe pages: save a card (confirmCardSetup) and confirm a charge the bank
// wants authenticated (confirmCardPayment). The server reads the result back from Stripe.
(function () {
  "use strict";

  function setUp(form) {
    const stripe = Stripe(form.dataset.stripeKey, { locale: form.dataset.locale });
    const card = stripe.elements().create("card");
    card.mount("#card-element");
    const errors = document.getElementById("card-errors");
    const button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      errors.textContent = "";
      const result = await stripe.confirmCardSetup(form.dataset.clientSecret, {
        payment_method: { card: card },
      });
      if (result.error) {
        // Our own words for a refusal or a failed authentication; Stripe's (in the page's
        // language) for what the payer typed wrong.
        const code = result.error.code;
        if (code === "card_declined") {
          errors.textContent = form.dataset.declined;
        } else if (result.error.type === "validation_error" && result.error.message) {
          errors.textContent = result.error.message;
        } else {
          errors.textContent = form.dataset.failed;
        }
        button.disabled = false;
        return;
      }
      form.querySelector("[name=setup_intent]").value = result.setupIntent.id;
      form.submit();
    });
  }

  function authenticate(form) {
    const stripe = Stripe(form.dataset.stripeKey, { locale: form.dataset.locale });
    const button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      // Whatever Stripe.js reports, the server reads the charge back and says what happened.
      await stripe.confirmCardPayment(form.dataset.clientSecret);
      form.submit();
    });
  }

  const cardForm = document.getElementById("card-form");
  if (cardForm && cardForm.dataset.clientSecret) {
    setUp(cardForm);
  }
  const authenticateForm = document.getElementById("authenticate-form");
  if (authenticateForm) {
    authenticate(authenticateForm);
  }
})();
