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
        const declined = result.error.code === "card_declined";
        errors.textContent = declined ? form.dataset.declined : result.error.message || form.dataset.failed;
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
