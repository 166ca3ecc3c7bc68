import type { CST } from "yaml";

/**
 * How deep collections may nest. Composing YAML, and every later walk of the data, recurses once
 * per level; running out of stack there can abort the whole process, not just throw. serde_yaml,
 * which workmux reads its files with, stops at 128 levels too.
 */
export const MAX_NESTING = 128;

/** Where the first collection nested deeper than MAX_NESTING starts, if any. */
export function tooDeepAt(tokens: readonly CST.Token[]): number | undefined {
  const stack: { token: CST.Token | null | undefined; depth: number }[] = tokens.map((token) => ({
    token,
    depth: 0,
  }));
  for (let top = stack.pop(); top; top = stack.pop()) {
    const { token, depth } = top;
    if (token?.type === "document") {
      stack.push({ token: token.value, depth });
    } else if (token && "items" in token) {
      if (depth >= MAX_NESTING) return token.offset;
      for (const item of token.items) {
        stack.push({ token: item.key, depth: depth + 1 }, { token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

const isCollection = (v: unknown): v is object => typeof v === "object" && v !== null;

/**
 * What is wrong with how the data nests once aliases are resolved: an alias inside the
 * collection it names makes a cycle, and aliases can stack collections deeper than any one
 * place in the file does. Each collection is walked once, however often it is aliased.
 */
export function nestingProblem(root: unknown): "cycle" | "too deep" | undefined {
  if (!isCollection(root)) return undefined;
  const height = new Map<object, number>();
  const onPath = new Set<object>([root]);
  const path = [{ node: root, children: Object.values(root), next: 0, height: 0 }];
  for (let frame = path.at(-1); frame; frame = path.at(-1)) {
    const child = frame.children[frame.next++];
    if (frame.next <= frame.children.length) {
      if (!isCollection(child)) continue;
      if (onPath.has(child)) return "cycle";
      const known = height.get(child);
      if (known === undefined) {
        if (path.length >= MAX_NESTING) return "too deep";
        onPath.add(child);
        path.push({ node: child, children: Object.values(child), next: 0, height: 0 });
      } else {
        if (path.length + known > MAX_NESTING) return "too deep";
        frame.height = Math.max(frame.height, known);
      }
      continue;
    }
    path.pop();
    onPath.delete(frame.node);
    height.set(frame.node, frame.height + 1);
    const parent = path.at(-1);
    if (parent) parent.height = Math.max(parent.height, frame.height + 1);
  }
  return undefined;
}
