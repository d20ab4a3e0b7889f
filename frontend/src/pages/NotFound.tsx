import { Link } from "../router";
import { useTitle, PageHeading } from "../ui";

export function NotFound({ what }: { what?: string }) {
  useTitle("Not found");
  return (
    <>
      <PageHeading>Not found</PageHeading>
      <p>{what ?? "There is no page at this address."}</p>
      <p>
        <Link href="/">Latest articles</Link>
      </p>
    </>
  );
}
