import { useQuery } from "@urql/preact";
import { StoryPageDocument } from "../generated/graphql";
import { Link, paths } from "../router";
import { ArticleCard, PageHeading, Unloaded, When, useTitle } from "../ui";
import { NotFound } from "./NotFound";

export function Story({ id }: { id: string }) {
  const [{ data, fetching, error }] = useQuery({ query: StoryPageDocument, variables: { id } });
  const story = data?.story;
  useTitle(story?.headline ?? null);
  if (data && !story) return <NotFound what={`No story with the id ${id}.`} />;
  if (!story) return <Unloaded what="story" fetching={fetching} error={error} />;
  return (
    <>
      <PageHeading>{story.headline}</PageHeading>
      <dl class="facts">
        <dt>Articles</dt>
        <dd>{story.articleCount}</dd>
        <dt>Coverage</dt>
        <dd>{story.coverageCount}</dd>
        <dt>From</dt>
        <dd>
          <When value={story.firstPublishedDateTime} />
        </dd>
        <dt>To</dt>
        <dd>
          <When value={story.lastPublishedDateTime} />
        </dd>
      </dl>
      <section aria-labelledby="providers-heading">
        <h2 id="providers-heading">Providers</h2>
        <ul class="providers">
          {story.providers.map((provider) => (
            <li key={provider.domain}>
              <Link href={paths.provider(provider.domain)}>{provider.name}</Link>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="unfolded-heading">
        <h2 id="unfolded-heading">As it unfolded</h2>
        <ol class="cards timeline">
          {story.articles.nodes.map((article) => (
            <li key={article.id}>
              <ArticleCard article={article} level={3} />
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}
