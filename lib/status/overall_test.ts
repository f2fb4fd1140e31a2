import assert from "node:assert/strict";
import { overallState } from "./overall.ts";

Deno.test("overallState() is major when every watched job is down, partial when some are", () => {
  assert.equal(overallState(["down", "down", "paused"]), "major_outage");
  assert.equal(overallState(["down", "up", "degraded"]), "partial_outage");
  assert.equal(overallState(["down", "maintenance"]), "partial_outage");
});

Deno.test("overallState() without outages: degraded, then maintenance, then operational", () => {
  assert.equal(overallState(["up", "degraded", "maintenance"]), "degraded");
  assert.equal(overallState(["up", "maintenance"]), "maintenance");
  assert.equal(overallState(["up", "pending", "paused"]), "operational");
});

Deno.test("overallState() counts paused and unchecked jobs for nothing", () => {
  assert.equal(overallState([]), "operational");
  assert.equal(overallState(["paused", "pending"]), "operational");
  assert.equal(overallState(["pending", "down"]), "major_outage");
});
