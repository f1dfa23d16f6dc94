package listener.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Folds accented letters to ASCII: película → pelicula, ç → c, ñ → n. */
@NamedComponent("listener_folding")
public final class FoldingFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new ASCIIFoldingFilter(input);
    }

    /** Also usable in normalizers, so keyword fields fold the same way. */
    @Override
    public TokenStream normalize(TokenStream input) {
        return create(input);
    }
}
