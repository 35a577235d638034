// The subscription Overview's usage chart scrolls sideways on a phone: show the latest
// days first, on load and whenever htmx brings the tab back.
(function () {
  function showLatestUsage() {
    document.querySelectorAll(".chart-scroll").forEach(function (chart) {
      chart.scrollLeft = chart.scrollWidth;
    });
  }
  showLatestUsage();
  document.body.addEventListener("htmx:afterSettle", showLatestUsage);
})();
