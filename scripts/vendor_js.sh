#!/usr/bin/env bash
# Copies the JavaScript that the book's pages load (require.js, the ipywidgets HTML
# manager, MathJax) from their npm packages into _assets/vendor, so that the HTML book
# works without internet. The result is committed; rerun after changing a version here.
# (_assets/, not _static/: Jupyter Book loads every script under _static/ on every page.)
set -euo pipefail
cd "$(dirname "$0")/.."
REQUIREJS=2.3.7
HTML_MANAGER=1.0.14
MATHJAX=3.2.2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "requirejs@$REQUIREJS" "@jupyter-widgets/html-manager@$HTML_MANAGER" "mathjax@$MATHJAX" >/dev/null)
for f in "$work"/*.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
out=_assets/vendor
rm -rf "$out" && mkdir -p "$out/mathjax/output/chtml/fonts"
cp "$work"/requirejs-*/package/require.js "$out/require.min.js"
manager="$work"/jupyter-widgets-html-manager-*/package/dist
cp $manager/embed-amd.js "$out/"
cp $manager/*.woff $manager/*.woff2 $manager/*.ttf $manager/*.eot $manager/*.svg "$out/"
mathjax="$work"/mathjax-*/package/es5
cp $mathjax/tex-chtml-full.js "$out/mathjax/tex-chtml.js"
cp -r $mathjax/output/chtml/fonts/woff-v2 "$out/mathjax/output/chtml/fonts/"
cp "$work"/mathjax-*/package/LICENSE "$out/mathjax/LICENSE"
echo "requirejs@$REQUIREJS @jupyter-widgets/html-manager@$HTML_MANAGER mathjax@$MATHJAX" > "$out/VERSIONS"
