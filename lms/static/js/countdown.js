// Visible countdown for timed quizzes; submits the form when the time is up.
// The server enforces the limit whatever this script does.
(function () {
  "use strict";
  var clock = document.getElementById("countdown");
  var form = document.getElementById("quiz-form");
  var announce = document.getElementById("countdown-announce");
  if (!clock || !form) { return; }
  var deadline = Date.parse(clock.getAttribute("data-deadline"));
  var lastMinute = null;
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
    var minutes = Math.floor(left / 60);
    clock.textContent = minutes + ":" + pad(left % 60);
    if (announce && minutes !== lastMinute && (minutes <= 5 || minutes % 5 === 0)) {
      announce.textContent = clock.textContent;
      lastMinute = minutes;
    }
    if (left === 0) {
      clearInterval(timer);
      form.submit();
    }
  }
  var timer = setInterval(tick, 1000);
  tick();
})();
