// A small program against the client generated from openapi/openapi.json: it must type-check
// under --strict, so the document describes what a TypeScript front end really gets.
import type { components, operations, paths } from "./generated/api";

type ListClusters = operations["list_clusters"];
type ClusterQuery = NonNullable<ListClusters["parameters"]["query"]>;
type ClusterPage = ListClusters["responses"][200]["content"]["application/json"];
type Cluster = ClusterPage["items"][number];
type Problem = components["schemas"]["Problem"];

// Paths are keys of the document; a typo is a compile error.
const clustersPath: keyof paths = "/v1/clusters";

function queryString(query: ClusterQuery): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
        for (const item of Array.isArray(value) ? value : [value]) {
            if (item !== null && item !== undefined) params.append(name, String(item));
        }
    }
    return params.toString();
}

export async function clusterSlugs(base: string, country: string): Promise<string[]> {
    const slugs: string[] = [];
    let cursor: string | null = null;
    do {
        const query: ClusterQuery = { country: [country], limit: 200, cursor };
        const response = await fetch(`${base}${clustersPath}?${queryString(query)}`);
        if (!response.ok) {
            const problem = (await response.json()) as Problem;
            throw new Error(`${problem.status} ${problem.title}: ${problem.detail ?? ""}`);
        }
        const page = (await response.json()) as ClusterPage;
        slugs.push(...page.items.map((cluster: Cluster) => cluster.slug));
        cursor = page.next_cursor ?? null;
    } while (cursor !== null);
    return slugs;
}

export function describe(cluster: Cluster): string {
    // @ts-expect-error: the generated types are precise, not `any`: no such field exists.
    const missing = cluster.no_such_field;
    return `${cluster.name} (${cluster.country}) ${String(missing)}`;
}
