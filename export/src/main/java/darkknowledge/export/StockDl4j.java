package darkknowledge.export;

import darkknowledge.core.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * A {@link NetLayout} as a {@link MultiLayerNetwork} of DL4J's stock layers only — {@link ConvolutionLayer}
 * (ReLU, "same" mode), {@link SubsamplingLayer} (max), {@link DenseLayer} (ReLU) and an {@link OutputLayer}
 * with softmax and cross-entropy — holding the trained parameters: what any DL4J program restores with
 * {@code ModelSerializer.restoreMultiLayerNetwork(file)}; {@code output(x)} gives the probabilities.
 *
 * <p>DL4J's convolutions run in its default NCHW layout. The input stays our flat row: DL4J's
 * {@code FeedForwardToCnnPreProcessor} reads it as {@code [N, channels, height, width]}, which is our
 * (y, x, channel) order when there is one channel, so only one-channel conv nets are exported to this
 * format (every image net of the project; the ONNX graph takes any). Parameters are re-laid out, not
 * changed: a convolution's {@code W_dl4j[o, c, ky, kx] = W[(ky·k + kx)·C + c, o]}; DL4J flattens the last
 * feature map in (channel, y, x) order, ours is (y, x, channel), so the first dense layer's rows are
 * permuted: {@code W_dl4j[(c·H + y)·W + x, o] = W[(y·W + x)·C + c, o]}.
 *
 * <p>Inference only: no updater state is written (ModelSerializer's {@code saveUpdater=false}); the
 * net is configured with plain SGD so that its JSON names no class of ours. The provenance is a
 * {@value #PROVENANCE_ENTRY} entry added to the zip (ModelSerializer ignores entries it does not know):
 * {@code unzip -p model.zip provenance.properties}.
 */
public final class StockDl4j {
    /** The zip entry holding the export's provenance as Java properties. */
    public static final String PROVENANCE_ENTRY = "provenance.properties";

    private StockDl4j() {
    }

    /** The stock network computing the same logits as {@code layout} (its output layer: their softmax). */
    public static MultiLayerNetwork network(NetLayout layout) {
        NetLayout.Conv first = layout.firstConv();
        if (first != null && first.channels() != 1) {
            throw new IllegalArgumentException("a conv net over " + first.channels() + "-channel images: the stock "
                    + "DL4J export reads input rows in DL4J's (channel, y, x) order, ours are (y, x, channel); only "
                    + "one-channel conv nets export to dl4j (use --format onnx)");
        }
        var list = new NeuralNetConfiguration.Builder()
                .dataType(DataType.FLOAT)
                .updater(new org.nd4j.linalg.learning.config.Sgd(0.0))
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .list();
        for (NetLayout.Layer l : layout.layers()) {
            list.layer(switch (l) {
                case NetLayout.Conv c -> new ConvolutionLayer.Builder(c.kernel(), c.kernel()).stride(1, 1)
                        .convolutionMode(ConvolutionMode.Same).nIn(c.channels()).nOut(c.filters())
                        .activation(Activation.RELU).build();
                case NetLayout.Pool p -> new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(p.size(), p.size()).stride(p.size(), p.size()).build();
                case NetLayout.Dense d when d.relu() -> new DenseLayer.Builder().nIn(d.nIn()).nOut(d.nOut())
                        .activation(Activation.RELU).build();
                case NetLayout.Dense d -> new OutputLayer.Builder(new LossMCXENT()).nIn(d.nIn()).nOut(d.nOut())
                        .activation(Activation.SOFTMAX).build();
            });
        }
        list.setInputType(first == null ? InputType.feedForward(layout.numInputs())
                : InputType.convolutionalFlat(first.height(), first.width(), first.channels()));
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        NetLayout.Pool lastPool = null;
        NetLayout.Conv lastConv = null;
        boolean flattened = false;
        for (int i = 0; i < layout.layers().size(); i++) {
            switch (layout.layers().get(i)) {
                case NetLayout.Conv c -> {
                    float[][][][] w = new float[c.filters()][c.channels()][c.kernel()][c.kernel()];
                    for (int o = 0; o < c.filters(); o++) {
                        for (int ch = 0; ch < c.channels(); ch++) {
                            for (int ky = 0; ky < c.kernel(); ky++) {
                                for (int kx = 0; kx < c.kernel(); kx++) {
                                    w[o][ch][ky][kx] = c.weight(o, ch, ky, kx);
                                }
                            }
                        }
                    }
                    net.getLayer(i).setParam("W", Nd4j.create(w));
                    net.getLayer(i).setParam("b", Nd4j.createFromArray(c.bias()).reshape(1, c.filters()));
                    lastConv = c;
                    lastPool = null;
                }
                case NetLayout.Pool p -> lastPool = p;
                case NetLayout.Dense d -> {
                    float[][] w = d.weights();
                    if (!flattened && lastConv != null) {
                        int h = lastPool != null ? lastPool.height() / lastPool.size() : lastConv.height();
                        int wd = lastPool != null ? lastPool.width() / lastPool.size() : lastConv.width();
                        w = nchwRows(w, h, wd, lastConv.filters());
                    }
                    flattened = true;
                    net.getLayer(i).setParam("W", Nd4j.createFromArray(w));
                    net.getLayer(i).setParam("b", Nd4j.createFromArray(d.bias()).reshape(1, d.nOut()));
                }
            }
        }
        return net;
    }

    /** Rows of a dense layer over a (y, x, c)-flattened {@code h × w × c} map, reordered for a (c, y, x) flattening. */
    static float[][] nchwRows(float[][] nhwc, int h, int w, int c) {
        if (nhwc.length != h * w * c) {
            throw new IllegalStateException("dense layer of " + nhwc.length + " inputs after a " + h + "x" + w + "x" + c
                    + " feature map");
        }
        float[][] out = new float[nhwc.length][];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int ch = 0; ch < c; ch++) {
                    out[(ch * h + y) * w + x] = nhwc[(y * w + x) * c + ch];
                }
            }
        }
        return out;
    }

    /**
     * Writes {@code layout} as a stock network zip (no updater) with {@code provenance} as its
     * {@value #PROVENANCE_ENTRY} entry, atomically.
     */
    public static void write(NetLayout layout, Map<String, String> provenance, Path file) {
        MultiLayerNetwork net = network(layout);
        AtomicFiles.write(file, out -> {
            Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".export-", ".zip");
            try {
                ModelSerializer.writeModel(net, tmp.toFile(), false);
                try (FileSystem zip = FileSystems.newFileSystem(tmp)) {
                    Files.writeString(zip.getPath(PROVENANCE_ENTRY), Export.propertiesText(provenance),
                            StandardCharsets.UTF_8);
                }
                Files.copy(tmp, out);
            } finally {
                Files.deleteIfExists(tmp);
            }
        });
    }

    /** The provenance entry of an exported zip; an error naming the file when it has none. */
    public static SortedMap<String, String> provenance(Path file) {
        try (FileSystem zip = FileSystems.newFileSystem(file)) {
            Path entry = zip.getPath(PROVENANCE_ENTRY);
            if (!Files.exists(entry)) {
                throw new IllegalArgumentException(file + " has no " + PROVENANCE_ENTRY + " entry: not written by export");
            }
            java.util.Properties p = new java.util.Properties();
            try (var in = Files.newBufferedReader(entry, StandardCharsets.UTF_8)) {
                p.load(in);
            }
            SortedMap<String, String> m = new TreeMap<>();
            p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
