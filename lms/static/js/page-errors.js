/* A page that comes back with an error (a wrong password, a roster with bad rows,
   a refused form): the focus moves to its error summary, or to its first error
   box, so that a keyboard user starts there and a screen reader reads it even if
   the box was already in the page (WCAG 2.4.3, 4.1.3). The server has already
   begun the <title> with "Errore:" (base.html); a page whose error it could not
   see (a field marked aria-invalid by its own markup) gets the prefix here. */
(function () {
  "use strict";
  var target =
    document.querySelector("[data-lms-error-summary]") ||
    document.querySelector("[data-lms-error]") ||
    document.querySelector('[aria-invalid="true"]');
  if (!target) {
    return;
  }
  var prefix = document.documentElement.getAttribute("data-error-prefix");
  if (prefix && document.title.indexOf(prefix) !== 0) {
    document.title = prefix + " " + document.title;
  }
  if (!target.hasAttribute("tabindex") && !target.matches("input, select, textarea, button, a[href]")) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();

  // A link of the summary moves the focus to its field (a fragment alone would only
  // scroll there), with the field's label in view.
  var summary = document.querySelector("[data-lms-error-summary]");
  if (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest('a[href^="#"]');
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!field) {
        return;
      }
      event.preventDefault();
      var label = document.querySelector('label[for="' + field.id + '"]');
      (label || field).scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
    });
  }
})();
