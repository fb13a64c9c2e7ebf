package onnx

import "google.golang.org/protobuf/encoding/protowire"

// ResizeScales gives every Resize whose output size is computed in the
// graph (a sizes input that is no initializer: Concat(Shape(x)[:2],
// [h, w]) as PyTorch exports F.interpolate(size=...)) the constant scales
// instead, and drops the nodes that then feed nothing. It returns the
// model and the number of Resize nodes rewritten.
//
// Why: ONNX Runtime keeps a Resize with sizes out of the CPU's blocked
// (NCHWc) layout, so each one reorders its input out of the layout and
// its output back, and runs the plain kernel (the 66-point model's two
// Resize: 0.9 ms of a 9 ms run); with constant scales it becomes the
// blocked Upsample. The scales are the caller's to know: they hold for a
// model whose input size is fixed (the 66-point model's are [1, 1, 2, 2]
// at 224×224), and a wrong one changes the output's shape, which the
// manifest check and the tests catch.
func ResizeScales(model []byte, scales []float32) ([]byte, int, error) {
	return rewriteGraph(model, func(graph []byte) ([]byte, int, error) { return resizeScalesGraph(graph, scales) })
}

func resizeScalesGraph(graph []byte, scales []float32) ([]byte, int, error) {
	inits, err := initializerNames(graph)
	if err != nil {
		return nil, 0, err
	}
	nodes, rest, err := splitNodes(graph)
	if err != nil {
		return nil, 0, err
	}
	k := 0
	var newInits []byte
	for i, nd := range nodes {
		if nd.op != "Resize" || len(nd.in) != 4 || len(nd.out) != 1 || nd.in[3] == "" || inits[nd.in[3]] {
			continue
		}
		name := nd.out[0] + "/scales"
		newInits = protowire.AppendTag(newInits, fGraphInit, protowire.BytesType)
		newInits = protowire.AppendBytes(newInits, floatTensor(name, scales))
		nodes[i].field = withInputs(nd.field, []string{nd.in[0], nd.in[1], name})
		nodes[i].in = []string{nd.in[0], nd.in[1], name}
		k++
	}
	if k == 0 {
		return graph, 0, nil
	}
	nodes = pruneDead(nodes, graph)
	return append(append(joinNodes(nodes, nil, nil), rest...), newInits...), k, nil
}

// withInputs rewrites a graph.node field (tag included) with new inputs.
func withInputs(field []byte, in []string) []byte {
	node, _ := protowire.ConsumeBytes(field[protowire.SizeTag(fGraphNode):])
	var b []byte
	for _, s := range in {
		b = protowire.AppendTag(b, fNodeInput, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	_ = fields(node, func(num protowire.Number, _ protowire.Type, f, _ []byte) error {
		if num != fNodeInput {
			b = append(b, f...)
		}
		return nil
	})
	out := protowire.AppendTag(nil, fGraphNode, protowire.BytesType)
	return protowire.AppendBytes(out, b)
}

// pruneDead drops, until none is left, the nodes none of whose outputs
// feeds a node or the graph's outputs.
func pruneDead(nodes []graphNode, graph []byte) []graphNode {
	outputs := graphOutputNames(graph)
	for {
		used := map[string]bool{}
		for _, nd := range nodes {
			for _, in := range nd.in {
				used[in] = true
			}
		}
		keep := nodes[:0:0]
		for _, nd := range nodes {
			live := false
			for _, o := range nd.out {
				live = live || used[o] || outputs[o]
			}
			if live {
				keep = append(keep, nd)
			}
		}
		if len(keep) == len(nodes) {
			return nodes
		}
		nodes = keep
	}
}
