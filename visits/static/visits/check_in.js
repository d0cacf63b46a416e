// Adds the browser's position to a check-in when it is available; checks in without it
// otherwise (permission refused, no GPS, or no answer within a few seconds).
(function () {
  "use strict";
  var form = document.getElementById("check-in-form");
  if (!form) { return; }
  var sent = false;
  function send() {
    if (sent) { return; }
    sent = true;
    form.submit();
  }
  form.addEventListener("submit", function (event) {
    if (!("geolocation" in navigator)) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) { button.setAttribute("aria-busy", "true"); button.disabled = true; }
    var fallback = window.setTimeout(send, 6000);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        window.clearTimeout(fallback);
        form.elements.latitude.value = position.coords.latitude.toFixed(6);
        form.elements.longitude.value = position.coords.longitude.toFixed(6);
        send();
      },
      function () { window.clearTimeout(fallback); send(); },
      { enableHighAccuracy: true, timeout: 5000, maximumAge: 60000 }
    );
  });
})();
