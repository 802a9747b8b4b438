// Prettier: 120 columns, the house's quotes and commas. Embedded languages stay as written: Prettier would
// reflow the HTML and CSS inside Lit's html`…`/css`…` templates, and whitespace in a template is rendered
// text (a footer that read "NFE 16 · …" became "\n      NFE 16 · …"; the e2e demo tests caught it).
export default {
  printWidth: 120,
  singleQuote: true,
  trailingComma: 'all',
  arrowParens: 'always',
  endOfLine: 'lf',
  embeddedLanguageFormatting: 'off',
};
