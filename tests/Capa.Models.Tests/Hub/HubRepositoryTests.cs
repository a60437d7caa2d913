using System.Text;
using Capa.Models.Hub;

namespace Capa.Models.Tests.Hub;

public sealed class HubRepositoryTests
{
    [Fact]
    public void Parses_the_model_info_shape_with_lfs_sizes_and_hashes()
    {
        var json = """
            {"_id":"x","id":"Org/Model","sha":"0123456789abcdef0123456789abcdef01234567","private":false,
             "siblings":[
               {"rfilename":"config.json","blobId":"aa","size":123},
               {"rfilename":"onnx/model_q4.onnx","blobId":"bb","size":999,"lfs":{"sha256":"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789","size":999,"pointerSize":134}},
               {"rfilename":"tokenizer.json"}
             ]}
            """;

        var repo = HubRepository.Parse(Encoding.UTF8.GetBytes(json), "org/model")!;

        Assert.Equal("Org/Model", repo.Id);
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", repo.Commit);
        Assert.Equal(
            [
                new HubFile("config.json", 123, null),
                new HubFile("onnx/model_q4.onnx", 999, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"),
                new HubFile("tokenizer.json", null, null),
            ],
            repo.Files);
    }

    [Fact]
    public void Paths_that_could_escape_the_download_folder_are_dropped()
    {
        var json = """
            {"id":"org/model","sha":"abc","siblings":[
              {"rfilename":"../evil.json"},{"rfilename":"/etc/passwd"},{"rfilename":"a\\b.json"},{"rfilename":"onnx//x.onnx"},
              {"rfilename":"C:/x.json"},{"rfilename":"ok/config.json"},{"rfilename":".hidden/x.json"},{"rfilename":"x.onnx.capa-part"}]}
            """;

        var repo = HubRepository.Parse(Encoding.UTF8.GetBytes(json), "org/model")!;

        Assert.Equal(["ok/config.json"], repo.Files.Select(f => f.Path));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"error":"x"}""")]
    [InlineData("[]")]
    public void Something_that_is_not_model_info_is_null(string json)
    {
        Assert.Null(HubRepository.Parse(Encoding.UTF8.GetBytes(json), "org/model"));
    }

    [Fact]
    public void The_hub_spelling_of_another_repository_is_ignored()
    {
        var repo = HubRepository.Parse("""{"id":"other/model","siblings":[]}"""u8, "org/model")!;

        Assert.Equal("org/model", repo.Id);
        Assert.Null(repo.Commit);
    }
}
