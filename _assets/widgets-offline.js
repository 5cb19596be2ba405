// Fits the vendored ipywidgets HTML manager to this offline book. Loaded after
// require.js and before embed-amd.js on pages with widgets (nb_ipywidgets_js in _config.yml).
(() => {
  // Each bundled AMD module looks for its icon fonts next to its own URL, which requirejs
  // otherwise places under the page's folder, where nothing is. They all live in embed-amd.js.
  const bundle = new URL("vendor/embed-amd", document.currentScript.src).href;
  const modules = ["base", "base7", "controls", "controls7", "html-manager", "html-manager/dist/libembed-amd"];
  requirejs.config({ paths: Object.fromEntries(modules.map((name) => [`@jupyter-widgets/${name}`, bundle])) });

  // The manager typesets widget labels through MathJax 2's API; the book ships MathJax 3.
  window.addEventListener("DOMContentLoaded", () => {
    const mathjax = window.MathJax;
    if (mathjax && mathjax.startup && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: ([, , element]) => mathjax.startup.promise.then(() => mathjax.typesetPromise([element])),
      };
    }
  });
})();
