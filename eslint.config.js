// ESLint (flat config): the recommended JavaScript and typescript-eslint rules over the package's
// TypeScript and scripts. Formatting (120 columns) is Prettier's (prettier.config.js); `npm run lint`
// runs both, and `npm test`'s static step runs it before vitest. Deliberate choices:
// - unused names starting with "_" are intended (a rest sibling left out: `const { keep: _k, ...rest }`);
// - tests may use `any` for data that is untyped by nature (JSON back from page.evaluate, fuzzed
//   manifests edited field by field); src/ may not.
// - the lines Prettier cannot break (long strings, URLs, a few comments) are held at 120 by max-len
//   with strings, template literals, URLs and regular expressions exempt.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const node = { URL: 'readonly', process: 'readonly', console: 'readonly' };

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'scratch/', 'training/', 'models/', 'public/', 'src/gpu/shaders.gen.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true },
      ],
    },
  },
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: node } },
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
