"""Debian's Chromium as the browser tests and bench/pwa.py launch it, and checks run inside the PWA's page."""

#: Debian's Chromium; without the background-networking flags it keeps calling hosts this closed network refuses.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: True once the app's IndexedDB database holds sessions (or, without a "sessions" store, anything but bookmarks).
#: Never creates the database, and closes its connection at once so that the app's upgrades are not blocked.
STORED_PROGRAMME = """async () => {
    if (!(await indexedDB.databases()).some((db) => db.name === "kumpul")) return false;
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("kumpul");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    try {
        const names = [...db.objectStoreNames];
        const stores = names.includes("sessions") ? ["sessions"] : names.filter((name) => name !== "bookmarks");
        for (const name of stores) {
            const count = await new Promise((resolve, reject) => {
                const request = db.transaction(name).objectStore(name).count();
                request.onsuccess = () => resolve(request.result);
                request.onerror = () => reject(request.error);
            });
            if (count > 0) return true;
        }
        return false;
    } finally {
        db.close();
    }
}"""
