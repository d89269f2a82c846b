import networkx as nx

roads = [
    ("Amsterdam", "Utrecht", 45), ("Amsterdam", "Haarlem", 20), ("Haarlem", "Leiden", 32),
    ("Leiden", "The Hague", 18), ("Utrecht", "Rotterdam", 60), ("The Hague", "Rotterdam", 25),
    ("Utrecht", "Arnhem", 65), ("Rotterdam", "Breda", 50), ("Arnhem", "Nijmegen", 20),
    ("Breda", "Eindhoven", 60), ("Eindhoven", "Nijmegen", 65),
]
G = nx.Graph()
G.add_weighted_edges_from(roads, weight="km")
print(G)
path = nx.shortest_path(G, "Amsterdam", "Eindhoven", weight="km")
print("Shortest route:", " -> ".join(path))
print("Distance:", nx.shortest_path_length(G, "Amsterdam", "Eindhoven", weight="km"), "km")
print("Fewest hops:", nx.shortest_path(G, "Haarlem", "Nijmegen"))
dist = nx.single_source_dijkstra_path_length(G, "Rotterdam", weight="km")
for city in sorted(dist, key=lambda c: (dist[c], c)):
    print(f"  {city:10s} {dist[city]:4d} km")
print("All shortest Haarlem->Rotterdam:", list(nx.all_shortest_paths(G, "Haarlem", "Rotterdam", weight="km")))
mst = nx.minimum_spanning_tree(G, weight="km")
print("MST length:", mst.size(weight="km"), "edges:", sorted(tuple(sorted(e)) for e in mst.edges()))
print("Diameter (hops):", nx.diameter(G))
