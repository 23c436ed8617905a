// @novu/node 2.6.6, unmodified: novu.trigger(name, {to, payload, transactionId}) against CLARION_URL.
import { Novu } from "@novu/node";
import { input, printError, printResult } from "./_io.mjs";

const { url, key, data: event } = input();
const novu = new Novu(key, { backendUrl: url });
const { name, ...rest } = event;
try {
  const response = await novu.trigger(name, rest);
  printResult({ status: response.status, headers: response.headers.toJSON(), data: response.data });
} catch (error) {
  printError(error);
}
