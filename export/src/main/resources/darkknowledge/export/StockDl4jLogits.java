// Run by darkknowledge.export.StockDl4jProcess in a child JVM whose class path holds stock DL4J only
// (deeplearning4j-nn, ND4J's CPU backend): `java -cp <stock jars> StockDl4jLogits.java MODEL.zip IN OUT`.
// It restores an exported model with ModelSerializer as any DL4J program would and writes, for the
// rows of IN, the logits (the output layer's W·h + b) and the probabilities (the net's own output()).
// IN: int rows, int columns, rows·columns floats; OUT: int rows, int classes, logits, probabilities
// (DataOutputStream, big-endian).
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.util.List;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

public class StockDl4jLogits {
    static final int CHUNK = 256;

    public static void main(String[] args) throws Exception {
        try {
            Class.forName("darkknowledge.generalist.Classifier");
            System.err.println("a class of Dark Knowledge is on this class path: not a stock DL4J check");
            System.exit(3);
        } catch (ClassNotFoundException expected) {
            System.out.println("class path: no Dark Knowledge classes");
        }
        MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(new File(args[0]), false);
        for (int i = 0; i < net.getnLayers(); i++) {
            System.out.println("layer " + i + ": " + net.getLayerWiseConfigurations().getConf(i).getLayer().getClass().getName());
        }
        int rows;
        int cols;
        float[] x;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(args[1])))) {
            rows = in.readInt();
            cols = in.readInt();
            x = new float[rows * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = in.readFloat();
            }
        }
        int last = net.getnLayers() - 1;
        INDArray w = net.getLayer(last).getParam("W");
        INDArray b = net.getLayer(last).getParam("b");
        int classes = (int) w.columns();
        float[] logits = new float[rows * classes];
        float[] probabilities = new float[rows * classes];
        for (int start = 0; start < rows; start += CHUNK) {
            int n = Math.min(CHUNK, rows - start);
            float[] part = new float[n * cols];
            System.arraycopy(x, start * cols, part, 0, part.length);
            INDArray chunk = Nd4j.create(part, new long[] {n, cols}, 'c');
            List<INDArray> activations = net.feedForward(chunk, false);  // the input, then each layer's output
            INDArray h = activations.get(last);
            InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(last);
            if (pre != null) {
                h = pre.preProcess(h, n, LayerWorkspaceMgr.noWorkspaces());
            }
            INDArray z = h.castTo(DataType.FLOAT).mmul(w).addiRowVector(b);
            INDArray p = net.output(chunk, false);
            System.arraycopy(z.dup('c').data().asFloat(), 0, logits, start * classes, n * classes);
            System.arraycopy(p.castTo(DataType.FLOAT).dup('c').data().asFloat(), 0, probabilities, start * classes, n * classes);
        }
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(args[2])))) {
            out.writeInt(rows);
            out.writeInt(classes);
            for (float v : logits) {
                out.writeFloat(v);
            }
            for (float v : probabilities) {
                out.writeFloat(v);
            }
        }
        System.out.println("done " + rows + " rows, " + classes + " classes");
    }
}
