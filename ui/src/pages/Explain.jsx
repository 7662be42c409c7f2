export function Explain() { return <p>Coming soon</p>; }
