// The summary's "Print or save as PDF" button: shown only when this script runs (no inline
// script: the Content-Security-Policy allows scripts from this site's files alone).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
