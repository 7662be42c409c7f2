export function History() { return <p>Coming soon</p>; }
