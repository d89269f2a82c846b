import networkx as nx

friendships = [("ann", "bob"), ("bob", "cid"), ("dee", "eve"), ("fay", "fay"), ("gil", "hal"), ("hal", "ivy"), ("ivy", "gil")]
G = nx.Graph(friendships)
G.add_node("joe")
comps = sorted((sorted(c) for c in nx.connected_components(G)), key=lambda c: (-len(c), c))
print("Components:", comps)
print("Count:", nx.number_connected_components(G))
print("Isolated:", sorted(nx.isolates(G)))
print("Self loops:", list(nx.selfloop_edges(G)))
print("Cycle:", nx.cycle_basis(G))

D = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d"), ("f", "e")])
print("Strongly connected:", sorted(sorted(c) for c in nx.strongly_connected_components(D)))
print("Weakly connected:", nx.number_weakly_connected_components(D))
print("DAG?", nx.is_directed_acyclic_graph(D))
tasks = nx.DiGraph([("design", "build"), ("build", "test"), ("design", "docs"), ("test", "release"), ("docs", "release")])
print("Build order:", list(nx.lexicographical_topological_sort(tasks)))
print("Longest path:", nx.dag_longest_path(tasks))
print("Ancestors of release:", sorted(nx.ancestors(tasks, "release")))
