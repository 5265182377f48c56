import { z } from "zod";
import { identifierSchema } from "../config/schema.js";

/**
 * The inference-complete event, shared by `lethe.complete()`,
 * `lethe.events.enqueue()` and `POST /v1/events/inference-complete`, so
 * every entry point validates the same way (unknown fields are rejected).
 *
 * @example
 * inferenceCompleteSchema.parse({ requestId: "req-1", artifacts: [{ dataset: "uploads", key: "req-1/in.dcm" }] });
 */
export const MAX_ARTIFACTS = 10_000;

export const artifactSchema = z.strictObject({
  dataset: identifierSchema,
  key: z.union([
    z.string().min(1).max(1024),
    z.number().int().refine(Number.isSafeInteger, { message: "expected a safe integer key" }),
  ]),
});

/**
 * The body of an inference-complete event (`POST /v1/events/inference-complete`, `lethe.complete`).
 *
 * @example
 * const event = inferenceCompleteSchema.parse({ requestId: "req-1", artifacts: [{ dataset: "uploads", key: "req-1/input.dcm" }] });
 */
export const inferenceCompleteSchema = z.strictObject({
  requestId: z.string().min(1).max(512),
  artifacts: z.array(artifactSchema).max(MAX_ARTIFACTS),
});

export type Artifact = z.output<typeof artifactSchema>;
export type InferenceComplete = z.output<typeof inferenceCompleteSchema>;
