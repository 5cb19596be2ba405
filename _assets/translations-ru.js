// Sphinx 7.4's Russian catalog has an empty translation for the search summary, so the
// search page would say nothing about what it found.
Object.assign(Documentation.TRANSLATIONS, {
  "Search finished, found ${resultCount} page(s) matching the search query.":
    "Поиск завершён, найдено страниц: ${resultCount}.",
});
