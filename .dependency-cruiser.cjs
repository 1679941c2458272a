// The import rules of the code base, checked by dependency-cruiser in
// `npm run lint` (`npm run check-layers` alone). STYLE.md and
// docs/ARCHITECTURE.md describe the layers; this file is the one list of them.
//
// Rules:
// - layers: a module in src/<layer>/ imports only its own layer and the
//   layers below it (LAYERS, bottom up; tools and server are siblings);
// - no cycles anywhere (src/, testing/, bench/, scripts/; type-only imports count: a cycle of types is
//   still two files that cannot be understood apart);
// - a module of one layer reaches another layer only through that layer's
//   index.ts, its public face (files inside a layer import each other freely);
// - production src/ never imports the validation tree (testing/), nor
//   bench/ or scripts/, nor a test file; a unit test beside its code
//   (src/**/*.test.ts) may import testing/ (the simulator, the rng, the
//   models), never bench/ or scripts/;
// - src/index.ts, the library's entry point, is imported by nothing in src/.
// Test files beside the code (*.test.ts) are held to the other rules too.

/** Bottom up. DO NOT reorder without updating STYLE.md and docs/ARCHITECTURE.md. */
const LAYERS = ['base', 'disk', 'dependency', 'extent', 'superblock', 'chunk', 'index', 'reclaim', 'store', 'node', 'tools', 'server', 'cli'];

const layerRules = LAYERS.slice(0, -1).map((layer, rank) => ({
  name: `layer-${layer}`,
  comment: `${layer} is below ${LAYERS.slice(rank + 1).join(', ')}: it may not import them`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(rank + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'siblings-server-tools',
      comment: 'server and tools are siblings above node (STYLE.md): neither imports the other',
      severity: 'error',
      from: { path: '^src/server/' },
      to: { path: '^src/tools/' },
    },
    {
      name: 'no-circular',
      comment: 'an import cycle: the files on it cannot be read, tested or moved apart',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'through-index',
      comment: "another layer's file imported directly: go through that layer's index.ts",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'src-not-testing',
      comment: 'production src/ must not import the validation tree, the benchmarks, the scripts or a test file (a *.test.ts beside the code may import testing/)',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: ['^(testing|bench|scripts)/', '\\.test\\.ts$'] },
    },
    {
      name: 'src-tests-not-bench',
      comment: 'a unit test beside the code may import testing/, not the benchmarks or the scripts',
      severity: 'error',
      from: { path: '^src/.*\\.test\\.ts$' },
      to: { path: '^(bench|scripts)/' },
    },
    {
      name: 'entry-point-imported',
      comment: 'src/index.ts is the entry point for library users; nothing in src/ imports it',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'not-resolvable',
      comment: 'an import that does not resolve to a file',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|testing|bench|scripts)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
