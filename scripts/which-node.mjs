// Prints which Node runs the repository's scripts (npm puts the pinned Node 24 of node_modules/.bin first
// on PATH), so `npm run train` shows it before it starts.
console.log(`Node ${process.version} (${process.execPath})`);
