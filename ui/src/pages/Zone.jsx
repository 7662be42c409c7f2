export function Zone() { return <p>Coming soon</p>; }
