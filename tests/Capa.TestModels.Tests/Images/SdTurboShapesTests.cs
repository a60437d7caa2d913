using Capa.TestModels.Images;

namespace Capa.TestModels.Tests.Images;

public class SdTurboShapesTests
{
    [Fact]
    public void ParameterCountsEqualThePublishedNetworks()
    {
        // Counted from the graphs' initializer shapes; no weight is produced.
        IReadOnlyDictionary<string, long> counts = DiffusionTestModelWriter.SdTurboParameterCounts();

        // diffusers' UNet2DConditionModel of stabilityai/sd-turbo (SD 2.1 base).
        Assert.Equal(865_910_724, counts["unet"]);

        // CLIPTextModel of SD 2: 23 layers of OpenCLIP ViT-H's text tower.
        Assert.Equal(340_387_840, counts["text_encoder"]);

        // AutoencoderKL (83,653,863 in all): decoder with post_quant_conv, encoder with quant_conv.
        Assert.Equal(49_490_199, counts["vae_decoder"]);
        Assert.Equal(83_653_863 - 49_490_199, counts["vae_encoder"]);
    }

    [Fact]
    public void TheSizeNameParses()
    {
        Assert.Equal(DiffusionTestSize.SdTurbo, DiffusionTestModelSpec.ParseSize("sd-turbo"));
        Assert.Equal(DiffusionTestSize.Tiny, DiffusionTestModelSpec.ParseSize("tiny"));
        Assert.Throws<ArgumentException>(() => DiffusionTestModelSpec.ParseSize("sdxl"));
    }
}
