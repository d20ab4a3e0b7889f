import { useQuery } from "@urql/preact";
import { ArticlePageDocument, ArticleStoryDocument } from "../generated/graphql";
import { Link, paths } from "../router";
import { Status, When, useTitle, PageHeading, Unloaded } from "../ui";
import { NotFound } from "./NotFound";

export function Article({ id }: { id: string }) {
  const [{ data, fetching, error }] = useQuery({ query: ArticlePageDocument, variables: { id } });
  const article = data?.article;
  useTitle(article?.title ?? null);
  if (data && !article) return <NotFound what={`No article with the id ${id}.`} />;
  if (!article) return <Unloaded what="article" fetching={fetching} error={error} />;
  return (
    <article class="full">
      <PageHeading>{article.title}</PageHeading>
      <p class="meta">
        {article.provider && <Link href={paths.provider(article.provider.domain)}>{article.provider.name}</Link>}
        {article.provider && article.publishedDateTime && " · "}
        <When value={article.publishedDateTime} />
        {article.category && <> · {article.category}</>}
      </p>
      {article.topics.length > 0 && (
        <ul class="topics" aria-label="Topics">
          {article.topics.map((topic) => (
            <li key={topic}>
              <Link href={paths.topic(topic)}>{topic}</Link>
            </li>
          ))}
        </ul>
      )}
      {article.images.map((image) =>
        // width and height (and the aspect ratio) reserve the image's space before it loads.
        <img
          key={image.url}
          class="picture"
          src={image.url}
          alt=""
          width={image.width ?? undefined}
          height={image.height ?? undefined}
          style={image.width && image.height ? { aspectRatio: `${image.width} / ${image.height}` } : undefined}
          loading="lazy"
          decoding="async"
          referrerpolicy="no-referrer"
        />,
      )}
      {article.excerpt && <p class="excerpt">{article.excerpt}</p>}
      {article.body && <div class="body">{article.body}</div>}
      {article.webUrl && (
        <p>
          <a href={article.webUrl} rel="noopener noreferrer">
            Read it at {article.provider?.name ?? "the source"}
          </a>
        </p>
      )}
      <StoryBox id={article.id} />
      {article.related.length > 0 && (
        <section aria-labelledby="related-heading">
          <h2 id="related-heading">Related coverage</h2>
          <ul class="related">
            {article.related.map((item, n) => (
              <li key={`${item.webUrl ?? ""}${n}`}>
                {item.article ? (
                  <Link href={paths.article(item.article.id)}>{item.title}</Link>
                ) : item.webUrl ? (
                  <a href={item.webUrl} rel="noopener noreferrer">
                    {item.title}
                  </a>
                ) : (
                  item.title
                )}
                <span class="meta">
                  {item.provider && <> · {item.provider.name}</>}
                  {item.publishedDateTime && <> · <When value={item.publishedDateTime} /></>}
                  {item.article && <> · in this reader</>}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}

function StoryBox({ id }: { id: string }) {
  const [{ data, fetching, error }] = useQuery({ query: ArticleStoryDocument, variables: { id } });
  const story = data?.article?.story;
  return (
    <section aria-labelledby="story-heading" class="story-box">
      <h2 id="story-heading">Story</h2>
      {story ? (
        <p>
          <Link href={paths.story(story.id)}>{story.headline}</Link>: {story.articleCount}{" "}
          {story.articleCount === 1 ? "article" : "articles"}, {story.coverageCount} in coverage
        </p>
      ) : (
        <Status fetching={fetching} error={error} />
      )}
    </section>
  );
}
