// Text into HTML, and data into an inline <script>: the report is one file, so everything it embeds is escaped here.

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** JSON that cannot end its <script> element early: `<` (as in `</script>` or `<!--`) and the line separators JS once refused are escaped. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A library's source inlined in a <script>: a `</script` inside it would end the element, so its slash is escaped (same string to JS). */
export function scriptText(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1');
}
