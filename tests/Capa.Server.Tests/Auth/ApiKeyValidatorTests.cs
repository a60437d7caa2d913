using Capa.Server.Auth;

namespace Capa.Server.Tests.Auth;

public sealed class ApiKeyValidatorTests
{
    [Fact]
    public void NoKeys_IsDisabled() => Assert.False(new ApiKeyValidator([]).Enabled);

    [Fact]
    public void AcceptsEachConfiguredKey_AndNothingElse()
    {
        var validator = new ApiKeyValidator(["sk-one", "sk-two", "ключ-🔑"]);
        Assert.True(validator.Enabled);
        Assert.True(validator.IsValid("sk-one"));
        Assert.True(validator.IsValid("sk-two"));
        Assert.True(validator.IsValid("ключ-🔑"));
        Assert.False(validator.IsValid("sk-on"));
        Assert.False(validator.IsValid("sk-one "));
        Assert.False(validator.IsValid(""));
        Assert.False(validator.IsValid(new string('x', 100_000)));
    }
}
