// The engine's fields stay inside the engine (STYLE.md; issue 15): code in
// src/ outside src/store/ may call DiskStore's methods and read its getters,
// but of its fields it may use only `view` (the read-only DiskView made for
// the node and the tools). A field is the engine's working state (its
// parts, commit log, live bytes, read tracker, reclaimer): a caller that
// holds one can change the engine behind its back.
//
// How: the TypeScript checker resolves every property access in src/
// outside src/store/; an access whose object is a DiskStore and whose
// property is declared as a field (not a method or an accessor) is
// reported. Test files beside the code are held to the rule too; the
// validation tree (testing/) is not: its checkers inspect the engine.
// Usage: node --import tsx scripts/check-store-fields.ts [root]; exit 1 on a violation.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ALLOWED_FIELDS: ReadonlySet<string> = new Set(['view']);

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const configPath = join(root, 'tsconfig.json');
const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
if (config.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
const inSrc = (f: string): boolean => relative(root, f).startsWith('src/');
const program = ts.createProgram(parsed.fileNames.filter(inSrc), parsed.options);
const checker = program.getTypeChecker();

function isField(decl: ts.Declaration): boolean {
  return ts.isPropertyDeclaration(decl) || (ts.isParameter(decl) && ts.isConstructorDeclaration(decl.parent));
}

function isDiskStore(type: ts.Type): boolean {
  const types = type.isUnion() ? type.types : [type];
  return types.some((t) => {
    const symbol = t.getSymbol();
    return symbol?.getName() === 'DiskStore' && (symbol.declarations ?? []).some((d) => relative(root, d.getSourceFile().fileName) === 'src/store/disk_store.ts');
  });
}

const problems: string[] = [];
for (const sourceFile of program.getSourceFiles()) {
  const rel = relative(root, sourceFile.fileName);
  if (!rel.startsWith('src/') || rel.startsWith('src/store/')) continue;
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node)) {
      const name = node.name.text;
      if (!ALLOWED_FIELDS.has(name) && isDiskStore(checker.getTypeAtLocation(node.expression))) {
        const decls = checker.getSymbolAtLocation(node.name)?.declarations ?? [];
        if (decls.some(isField)) {
          const { line } = sourceFile.getLineAndCharacterOfPosition(node.getStart());
          problems.push(`${rel}:${line + 1}: DiskStore.${name} is a field of the engine; use its methods or store.view`);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
}

if (problems.length > 0) {
  console.error(`engine fields used outside src/store/ (${problems.length}):`);
  for (const p of problems) console.error('  ' + p);
  process.exit(1);
}
console.log('engine fields: ok');
