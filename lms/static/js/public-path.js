/*
 * Settings Bootstrap Italia reads from globals, set before its bundle loads.
 *
 * window.__PUBLIC_PATH__ is where bootstrap.loadFonts() looks for the fonts.
 * The bundle does not call loadFonts() by itself, and we never call it: it
 * injects an inline <style>, which the Content-Security-Policy blocks. The
 * fonts are declared in css/fonts.css instead. The path is still set, from the
 * data-public-path attribute of this script's own tag, so that the global is
 * right should a component read it.
 *
 * window.VIDEOJS_NO_DYNAMIC_STYLE: the bundle includes Video.js, which on load
 * writes default player sizes into an inline <style> unless this is true. The
 * CSP would block that (and log a violation on every page); we have no video
 * player yet, and one would be sized by our own stylesheet.
 *
 * No inline script anywhere: this file is loaded with <script src>.
 */
(function () {
  "use strict";
  window.VIDEOJS_NO_DYNAMIC_STYLE = true;

  var script = document.currentScript;
  var path = script && script.getAttribute("data-public-path");
  if (path) {
    window.__PUBLIC_PATH__ = path.replace(/\/+$/, "");
  }
})();
