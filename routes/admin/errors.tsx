/** Failures on admin pages become a page (not JSON): the message, and a way back. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ErrorPage } from "../../components/error_page.tsx";
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  RequestAbortedError,
  ValidationError,
} from "../../lib/errors.ts";
import { translator } from "../../lib/i18n/i18n.ts";
import { loggedPath } from "../middleware/errors.ts";
import type { Assets } from "./assets.ts";
import type { AdminContext } from "./context.ts";
import { renderPage } from "./render.tsx";

export function adminErrors(assets: Assets) {
  return function adminErrorHandler(error: Error, c: Context): Response {
    const ctx = c as AdminContext;
    const t = ctx.get("t") ?? translator("en");
    let status: 400 | 403 | 404 | 409 | 413 = 400;
    let title = t("Something is wrong with the request");
    if (
      error instanceof NotFoundError || (error instanceof HTTPException && error.status === 404)
    ) {
      status = 404;
      title = t("Not found");
    } else if (error instanceof ForbiddenError) {
      status = 403;
      title = t("Not allowed");
    } else if (error instanceof ConflictError) {
      // A race lost to another change (a replay, an edit): the user may try again.
      status = 409;
      title = t("Not saved: it changed meanwhile");
    } else if (error instanceof PayloadTooLargeError) {
      status = 413;
    } else if (error instanceof RequestAbortedError) {
      // The client hung up: there is nobody to show a page to, and nothing to log.
      return c.text("Request aborted", 400);
    } else if (!(error instanceof ValidationError) && !(error instanceof HTTPException)) {
      console.error(`Unhandled error on ${c.req.method} ${loggedPath(c)}:`, error);
      return c.text("Internal server error", 500);
    }
    if (!ctx.get("csrf")) ctx.set("csrf", "");
    return renderPage(
      ctx,
      assets,
      { title, status, signedIn: ctx.get("user") !== undefined },
      <ErrorPage t={t} title={title} message={error.message} />,
    );
  };
}
