/**
 * Server side of islands: renders the component inside a marker element carrying its props,
 * and notes which islands a page used so the page loads exactly their scripts (a page with
 * none loads no JavaScript at all). The browser side is `islands/hydrate.ts`.
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
  props: { name: string; component: ComponentType<P>; props: P },
) {
  used?.add(props.name);
  const Component = props.component;
  return (
    <div data-island={props.name} data-props={JSON.stringify(props.props)}>
      <Component {...props.props} />
    </div>
  );
}
