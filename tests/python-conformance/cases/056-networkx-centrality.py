import networkx as nx

G = nx.karate_club_graph()
print("Nodes:", G.number_of_nodes(), "Edges:", G.number_of_edges())
print("Density:", round(nx.density(G), 4))
print("Average clustering:", round(nx.average_clustering(G), 4))


def top(d, k=5):
    return [(n, round(v, 4)) for n, v in sorted(d.items(), key=lambda t: (-t[1], t[0]))[:k]]


print("Degree:", top(nx.degree_centrality(G)))
print("Betweenness:", top(nx.betweenness_centrality(G)))
print("Closeness:", top(nx.closeness_centrality(G)))
print("Eigenvector:", top(nx.eigenvector_centrality(G, max_iter=1000)))
print("PageRank:", top(nx.pagerank(G, alpha=0.85)))
comms = nx.community.greedy_modularity_communities(G)
print("Communities:", [sorted(c) for c in comms])
print("Modularity:", round(nx.community.modularity(G, comms), 4))
