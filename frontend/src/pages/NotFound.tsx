import { Link } from "../router";
import { useTitle } from "../ui";

export function NotFound({ what }: { what?: string }) {
  useTitle("Not found");
  return (
    <>
      <h1 tabIndex={-1}>Not found</h1>
      <p>{what ?? "There is no page at this address."}</p>
      <p>
        <Link href="/">Latest articles</Link>
      </p>
    </>
  );
}
