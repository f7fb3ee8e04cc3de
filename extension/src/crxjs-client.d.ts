// `?script&iife` imports (the content script's built file name), typed by the crxjs plugin.
/// <reference types="@crxjs/vite-plugin/client" />
