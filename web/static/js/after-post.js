// A page that answers a POST (a refused form shown again with what was typed, a confirmation asked) takes
// the place of the POST in the browser's history with the page the form lives on (its base template names
// it): reloading then reads that page and never posts the action again, and Back does not offer to resend.
(function () {
  var meta = document.querySelector('meta[name="etender-page"]');
  if (meta && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", meta.getAttribute("content"));
  }
})();
