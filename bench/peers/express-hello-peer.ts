/**
 * The HTTP floor for `npm run bench:peers`: an Express 5 hello world, the same framework the
 * profile route runs on, with nothing else in front of it.
 */
import express from "express";
import { announceListening } from "./peer-auth.js";

const app = express();
app.get("/", (_req, res) => {
  res.send("Hello World!");
});
const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") announceListening(address.port);
});
