package darkknowledge.data;

/**
 * The eleven CJK type designs of the {@code glyphs} data set: where each comes from (a Debian font
 * package, pinned to the version whose files were verified), the SHA-256 of its
 * font file and which face of the file is used. A {@code .ttc} collection holds regional faces
 * (SC/TC/JP/KR) that mostly share their glyphs; each design is counted once, through its simplified
 * Chinese face, so that holding a design out of training really holds its strokes out.
 */
public enum Typeface {
    NOTO_SANS(Style.HEI, "Noto Sans CJK SC", NotoFile.SANS_REGULAR),
    NOTO_SANS_BOLD(Style.HEI, "Noto Sans CJK SC Bold", NotoFile.SANS_BOLD),
    NOTO_SERIF(Style.SONG, "Noto Serif CJK SC", NotoFile.SERIF_REGULAR),
    NOTO_SERIF_BOLD(Style.SONG, "Noto Serif CJK SC Bold", NotoFile.SERIF_BOLD),
    AR_PL_UKAI(Style.KAI, "AR PL UKai CN", "fonts-arphic-ukai", "0.2.20080216.2-5",
            "usr/share/fonts/truetype/arphic/ukai.ttc",
            "cfc758e69386a21bade8cb3b373fda20d7f2fac6e8904ced2ded98588b63e274"),
    AR_PL_UMING(Style.SONG, "AR PL UMing CN", "fonts-arphic-uming", "0.2.20080216.2-11",
            "usr/share/fonts/truetype/arphic/uming.ttc",
            "fe952e55617275142d9cefd4d79eade4df446517b0478b2567d9bc7df49f70e2"),
    AR_PL_SUNGTI(Style.SONG, "AR PL SungtiL GB", "fonts-arphic-gbsn00lp", "2.11-16",
            "usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
            "705ec2dba81eaee1208e4ed5d3ff23ab259292e8e0e163ea3de297ef1317007a"),
    AR_PL_KAITI(Style.KAI, "AR PL KaitiM GB", "fonts-arphic-gkai00mp", "2.11-16",
            "usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf",
            "61519fb9bdda4a1a3aa02a12cbb76c2ef897ce879775d7ea2265d0a65fe54d16"),
    WQY_MICROHEI(Style.HEI, "WenQuanYi Micro Hei", "fonts-wqy-microhei", "0.2.0-beta-3.1",
            "usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
            "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"),
    WQY_ZENHEI(Style.HEI, "WenQuanYi Zen Hei", "fonts-wqy-zenhei", "0.9.45-8",
            "usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
            "79c18ebe7b811951e8311bad7103ebeae8c337ed9988ea69e8a78a66cfe029b9"),
    DROID_SANS(Style.HEI, "Droid Sans Fallback", "fonts-droid-fallback", "1:6.0.1r16-1.1",
            "usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
            "acb6440a713d880a13a21b468ba7cd43f5a2b2934972e51be791c880730777b8");

    /** The broad family of a design: the held-out test faces should cover each. */
    public enum Style { SONG, KAI, HEI }

    /** The four Noto CJK collections, all in one package. */
    private enum NotoFile {
        SANS_REGULAR("NotoSansCJK-Regular.ttc", "b76b0433203017ca80401b2ee0dd69350349871c4b19d504c34dbdd80541690a"),
        SANS_BOLD("NotoSansCJK-Bold.ttc", "faa5f3656a78b2e2d450d27fe8382c778bc2b6bb5ea29c986664a6a435056ceb"),
        SERIF_REGULAR("NotoSerifCJK-Regular.ttc", "a04178ec485dffdff7cc0c0c20e1fce9202d7e2160d805e8e44a4c8841c58481"),
        SERIF_BOLD("NotoSerifCJK-Bold.ttc", "a5d4b046c127da3d7c72f98b46c41489cd29bf52abfdf18aba920903e920d4ac");

        final String file;
        final String sha256;

        NotoFile(String file, String sha256) {
            this.file = file;
            this.sha256 = sha256;
        }
    }

    private final Style style;
    private final String faceName;
    private final String debianPackage;
    private final String version;
    private final String pathInPackage;
    private final String sha256;

    Typeface(Style style, String faceName, NotoFile noto) {
        this(style, faceName, "fonts-noto-cjk", "1:20220127+repack1-1", "usr/share/fonts/opentype/noto/" + noto.file,
                noto.sha256);
    }

    Typeface(Style style, String faceName, String debianPackage, String version, String pathInPackage, String sha256) {
        this.style = style;
        this.faceName = faceName;
        this.debianPackage = debianPackage;
        this.version = version;
        this.pathInPackage = pathInPackage;
        this.sha256 = sha256;
    }

    public Style style() {
        return style;
    }

    /** The face's name inside its file ({@link java.awt.Font#getFontName()}). */
    public String faceName() {
        return faceName;
    }

    /** The Debian package that holds the file. */
    public String debianPackage() {
        return debianPackage;
    }

    /** The package version the checksum was taken from; {@code apt-get download} asks for exactly it. */
    public String version() {
        return version;
    }

    /** Where dpkg unpacks the file, relative to the root (also where an installed package has it). */
    public String pathInPackage() {
        return pathInPackage;
    }

    /** The font file's name, which is also its name in the cache. */
    public String fileName() {
        return pathInPackage.substring(pathInPackage.lastIndexOf('/') + 1);
    }

    public String expectedSha256() {
        return sha256;
    }

    /** The name used in config values and provenance keys ({@code ar_pl_uming}). */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
