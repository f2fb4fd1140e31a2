/**
 * Browser side of islands: finds the marker elements the server rendered for one island
 * (`data-island`, see components/island.tsx) and hydrates each with its props.
 */
import { type ComponentType, h, hydrate } from "preact";

export function mount<P>(name: string, component: ComponentType<P>): void {
  for (const element of document.querySelectorAll<HTMLElement>(`[data-island="${name}"]`)) {
    const props = JSON.parse(element.dataset.props ?? "{}") as P;
    hydrate(h(component as ComponentType<object>, props as object), element);
  }
}
