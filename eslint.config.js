// ESLint flat config: typescript-eslint's recommended rules for the TypeScript sources, ESLint's
// recommended rules for the JavaScript tests, benchmarks and scripts. Formatting is Prettier's job
// (`npm run format`), so no stylistic rules here.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const shared = {
  // `catch {}` is the deliberate best-effort cleanup idiom (kill a process that may be gone, remove
  // a namespace that may not exist); other empty blocks are still reported.
  'no-empty': ['error', { allowEmptyCatch: true }],
};

export default tseslint.config(
  {
    ignores: ['dist/', 'build/', 'build-*/', 'node_modules/', 'out/', 'scripts/accuracy/', 'test/fixtures/'],
  },
  {
    files: ['src/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
    rules: {
      ...shared,
      // `const { [key]: _, ...rest } = obj` drops a key on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: globals.node },
    rules: {
      ...shared,
      // `const { [key]: _, ...rest } = obj` drops a key on purpose.
      'no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['test/**/*.js'],
    rules: {
      // Tests match help text column by column: literal runs of spaces read as the expected output.
      'no-regex-spaces': 'off',
    },
  },
);
