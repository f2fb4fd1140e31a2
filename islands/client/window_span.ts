// Browser entry of the window_span island (built by `deno task build` into static/build/).
import { mount } from "../hydrate.ts";
import WindowSpan from "../window_span.tsx";

mount("window_span", WindowSpan);
