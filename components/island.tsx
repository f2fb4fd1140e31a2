/**
 * Server side of islands: renders the component inside a marker element carrying its props,
 * and notes which islands a page used so the page loads exactly their scripts (a page with
 * none loads no JavaScript at all; islands that work together share one script). The browser side is `islands/hydrate.ts`.
 */
import type { ComponentType } from "preact";

let used: Set<string> | null = null;

/** Runs `render` while collecting the islands it uses. */
export function collectIslands<T>(render: () => T): { result: T; islands: string[] } {
  const previous = used;
  used = new Set();
  try {
    const result = render();
    return { result, islands: [...used] };
  } finally {
    used = previous;
  }
}

export function Island<P extends object>(
  props: {
    name: string;
    component: ComponentType<P>;
    props: P;
    /** The script that mounts it, when one script mounts several islands (default: `name`). */
    bundle?: string;
    /** Inside a heading or a line of text: a `<span>` holds it instead of a `<div>`. */
    inline?: boolean;
  },
) {
  used?.add(props.bundle ?? props.name);
  const Component = props.component;
  const Holder = props.inline ? "span" : "div";
  return (
    <Holder data-island={props.name} data-props={JSON.stringify(props.props)}>
      <Component {...props.props} />
    </Holder>
  );
}
