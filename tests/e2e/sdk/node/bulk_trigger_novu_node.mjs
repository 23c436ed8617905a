// @novu/node 2.6.6, unmodified: novu.events.bulkTrigger(events) against CLARION_URL.
// Prints {ok, status, headers, data} (the axios response) or {ok:false, error}.
import { Novu } from "@novu/node";
import { input, printError, printResult } from "./_io.mjs";

const { url, key, data: events } = input();
// backendUrl without "novu.co/v" gets "/v1" appended by the SDK: requests go to <url>/v1/events/trigger/bulk
const novu = new Novu(key, { backendUrl: url });
try {
  const response = await novu.events.bulkTrigger(events);
  printResult({ status: response.status, headers: response.headers.toJSON(), data: response.data });
} catch (error) {
  printError(error);
}
