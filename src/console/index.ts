/**
 * The embeddable web console: a Fetch handler to mount in any server.
 *
 * @packageDocumentation
 * @module agent-incidents/console
 */
export { createConsoleHandler } from "./handler.js";
export type { ConsoleHandler, ConsoleOptions } from "./handler.js";
